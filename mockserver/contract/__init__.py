"""The contract and its judge: the document loaded once, requests decoded and validated, verdicts.

Everything the mock and the toolkit know about what is allowed comes from here, so the mock, its
journal, the validating proxy and `contracts check-traffic` cannot disagree.
"""

from mockserver.contract.document import Contract, Operation

__all__ = ["Contract", "Operation"]
