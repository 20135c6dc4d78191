"""`python -m keras_explain`: the `keras-explain` command (see keras_explain/cli/)."""

import sys

from keras_explain.cli import main

if __name__ == "__main__":
    sys.exit(main())
