"""The drill sender (`mamori worker`): deliveries are the queue.

``claim`` leases due deliveries, ``compose`` builds each message, ``smtp`` talks to the ward's relay and
``worker`` ties them together as the handler `mamori worker` runs. Outcomes are recorded by
``mamori.drills.actions.sending``.
"""
