"""``python -m xlsdk`` runs the command line, like the ``xlsdk`` script."""

from xlsdk.cli import run

if __name__ == "__main__":
    run()
