"""Stage handlers: turn deliveries and job results into engine events and carry out actions."""
