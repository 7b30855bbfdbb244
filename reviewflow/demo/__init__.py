"""The offline demonstration review (``reviewflow demo``): real data, simulated key presses."""
