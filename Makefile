# The verbs a user types. Each target is a one-line wrapper over a script in scripts/.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help
export BASE_IMAGE ?=
export RELEASE ?= mlstack
export NAMESPACE ?= mlstack

##@ Laptop
demo: ## Train, register and serve a model on this machine, no cluster (Ctrl-C stops it)
	scripts/demo.sh

##@ Tests
test: ## Install what the tests need and run every tier (exits non-zero on any failure)
	scripts/test.sh

lint: ## Linters only: ruff, shellcheck, chart lint (helm lint, kubeconform, kube-score)
	scripts/lint.sh
	scripts/lint-chart.sh

chart-docs: ## Regenerate the chart's values.schema.json and values table from the values comments
	scripts/install-python.sh && .venv/bin/python scripts/gen-chart-docs.py

bench: ## Benchmark the API against `mlflow models serve` (never part of `make test`)
	scripts/bench.sh

##@ Images
images: ## Build the mlflow, api and trainer images (BASE_IMAGE=... for an offline base)
	scripts/build-images.sh

base-image: ## Build the offline base image with debootstrap and import it into Docker
	scripts/build-base-image.sh

##@ kind
kind-up: ## Create the kind cluster with metrics-server
	scripts/kind-up.sh

kind-load: ## Load the three images into the kind cluster
	scripts/kind-load.sh

deploy: ## helm upgrade --install --wait with the kind profile
	scripts/deploy.sh

train: ## Start a trainer Job from the CronJob template and wait for it
	scripts/train.sh

port-forward: ## Forward the API and MLflow to localhost
	scripts/port-forward.sh

smoke: ## Readiness and one prediction through the port-forward
	scripts/smoke.sh

e2e: ## The whole kind journey end to end (needs privileged Docker)
	scripts/e2e-kind.sh

kind-down: ## Delete the kind cluster
	scripts/kind-down.sh

##@ Local Kubernetes control plane (no Docker needed)
cluster-up: ## Start kube-apiserver, controllers, scheduler and etcd with simulated nodes
	scripts/cluster-up.sh

cluster-down: ## Stop the local control plane and remove its state
	scripts/cluster-down.sh

##@ Local Kubernetes with a real node (root; no Docker-in-Docker, no registry)
node-up: ## Control plane plus a real kubelet, containerd, kube-proxy and CoreDNS on this machine
	scripts/node-up.sh

node-load: ## Import the mlstack images from Docker into the node's containerd
	scripts/node-load.sh

node-down: ## Stop the node and the control plane, remove their state, mounts, rules and addresses
	scripts/node-down.sh

##@ Help
help: ## Show this list
	@awk 'BEGIN {FS = ":.*##"} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-z-]+:.*##/ {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: demo test lint chart-docs bench images base-image kind-up kind-load deploy train port-forward smoke e2e kind-down cluster-up cluster-down node-up node-load node-down help
