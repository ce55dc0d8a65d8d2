// The pod sandbox ("pause") process for the local node: no dependencies, built static.
module mlstack.local/pause

go 1.24.0
