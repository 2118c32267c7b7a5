"""What runs while the service is up: background work, the dispatcher's loop, readiness.

The composition root starts and stops these around the use cases; the use
cases themselves only see the ports they implement.
"""
