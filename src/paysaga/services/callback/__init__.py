"""Callback service: the endpoint the provider calls; publishes ProviderCallbackReceived."""
