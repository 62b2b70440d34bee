enum _PlaceholderFerryServer {}
