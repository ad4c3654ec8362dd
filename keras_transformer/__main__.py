"""`python -m keras_transformer` runs the command-line interface."""

from keras_transformer.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
