"""Customer service: registration and credentials; publishes CustomerCreated."""
