"""Use cases between the HTTP routes and the engine and stores."""
