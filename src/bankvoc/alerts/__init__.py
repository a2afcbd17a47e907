"""Early warning: spikes against each series' seasonal baseline (hot issues), emerging topics,
possible mass complaints and the cases most likely to reach the regulator; alerts are stored,
notified and acknowledged."""
