"""What services share on the wire: events, topics, their schemas. Depends on nothing of ours."""
