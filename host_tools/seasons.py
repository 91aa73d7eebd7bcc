"""Season names the tools accept: the paper says summer/winter, the firmware cooling/heating."""

SEASON_ALIASES = {"summer": "cooling", "winter": "heating", "cooling": "cooling",
                  "heating": "heating"}
