"""Reliability tests: real worker subprocesses against moto's SQS server over HTTP."""
