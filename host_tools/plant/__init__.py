"""The simulated source loop: PE coil in a river, pipes, pump and valve or VFD, heat pump unit."""
