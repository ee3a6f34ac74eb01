"""data_science: measure images, fit models and summarise noisy measurements.

Answers are graded numerically (``metric_threshold``): an accuracy, an RMSE or a largest
absolute error must reach a threshold, with a partial score for getting part of the way.
"""
