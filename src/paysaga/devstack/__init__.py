"""The local platform: a private PostgreSQL cluster, Apache Kafka from Maven Central, topics,
databases and migrations, and a supervisor for every service. `paysaga run` starts it all."""
