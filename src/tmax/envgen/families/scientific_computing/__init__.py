"""scientific_computing: signal analysis of audio, ODE integration and linear algebra, graded
numerically (within a tolerance that tightens with difficulty)."""
