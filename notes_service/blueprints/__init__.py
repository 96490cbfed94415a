"""Routes, one module per audience and concern; they stay thin and call `services`."""
