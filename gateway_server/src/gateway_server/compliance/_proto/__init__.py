"""Generated from contracts/compliance.proto by ``python tools/gen_proto.py``; do not edit.

``compliance_pb2`` holds the messages, ``compliance_pb2_grpc`` the ``ComplianceAgent``
stub, servicer and ``add_ComplianceAgentServicer_to_server``; the ``.pyi`` files type
both. CI runs ``python tools/gen_proto.py --check``, which fails when they drift from
the .proto.
"""
