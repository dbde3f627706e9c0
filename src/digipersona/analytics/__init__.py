"""Analytics: metrics read-back on a decaying schedule, trends, best times, prediction."""
