"""Write bytecode only for the modules the API imports (build-time helper of images/api/Dockerfile).

The image's root filesystem is read-only, so Python cannot cache bytecode at run time: precompiled
.pyc files keep start-up fast. Compiling all of site-packages doubles its size, though, and half of
it is never imported by the service; this compiles exactly what starting the API and loading a
scikit-learn model imports. UNCHECKED_HASH pycs never consult source timestamps (the image is
immutable), so copying files between build stages cannot make them stale.
"""

import importlib
import py_compile
import sys

SERVICE_MODULES = (
    "api.__main__",
    "api.app",
    "mlstack.models",
    "mlstack.registry",
    "uvicorn.loops.uvloop",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.lifespan.on",
    "skops.io",
    "sklearn.pipeline",
    "sklearn.compose",
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.tree",
    "mlflow.sklearn",
    "mlflow.pyfunc",
)


def main() -> int:
    for name in SERVICE_MODULES:
        importlib.import_module(name)
    count = 0
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None) or ""
        if source.endswith(".py") and "/site-packages/" in source:
            py_compile.compile(
                source, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
            )
            count += 1
    sys.stderr.write(f"compiled {count} modules\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
