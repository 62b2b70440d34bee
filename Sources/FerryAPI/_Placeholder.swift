enum _PlaceholderFerryAPI {}
