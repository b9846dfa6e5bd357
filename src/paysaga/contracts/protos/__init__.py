"""gRPC contracts: the `.proto` files and the Python code generated from them.

- `antifraud.proto` → `antifraud_pb2` (messages), `antifraud_pb2_grpc` (`AntiFraudStub`, servicer).

Regenerate with `python -m paysaga.contracts.protos.generate` after changing a `.proto` file.
"""
