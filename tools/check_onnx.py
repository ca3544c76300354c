#!/usr/bin/python3
"""tools/check_onnx.py — runs ONNX's own checker with full_check (shape inference included) over models lrdkt wrote.

Usage: tools/check_onnx.py MODEL.onnx [MODEL.onnx ...]   (the system python; tools/setup-python.sh installs onnx)
Prints one line per model; exits 1 when any model fails. External data is read from beside each model.

The check runs on the loaded model, never on the path: onnx 1.12's check_model(path, full_check=True) writes the
inferred shapes back into the model file it checks.
"""
import sys

import onnx


def main(paths):
    failed = 0
    for path in paths:
        try:
            onnx.checker.check_model(onnx.load(path), full_check=True)
            print(f"ok     {path}")
        except Exception as e:  # the checker raises ValidationError, shape inference InferenceError
            failed += 1
            print(f"FAILED {path}: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip())
    sys.exit(main(sys.argv[1:]))
