"""``python -m reviewflow`` is the ``reviewflow`` command (``reviewflow serve`` starts apps so)."""

if __name__ == "__main__":
    from reviewflow.cli import main

    main()
