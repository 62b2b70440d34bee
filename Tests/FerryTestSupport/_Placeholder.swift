enum _PlaceholderFerryTestSupport {}
