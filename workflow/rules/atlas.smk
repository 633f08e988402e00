# atlas rules: see docs/contract.md for the files they exchange.
