"""simple-worker's benchmarks: ``python -m bench`` (see docs/performance.md).

Cost per task on SQS (moto behind a counting server), throughput against a hand-written boto3
loop, idle cost, memory-broker and validation overhead, and optional peers.
"""
