"""PaySaga: wallet payouts as a choreographed saga over Apache Kafka."""
