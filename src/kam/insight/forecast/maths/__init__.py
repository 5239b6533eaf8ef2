"""ORM-free model maths for the forecast feature (no Django imports here)."""
