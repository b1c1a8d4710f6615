"""The vote relayer (`verdict relay`): members' EIP-712 signed votes and delegations, checked off-chain
and submitted in batches through the DAO's VoteRelay, which reimburses the relayer's gas."""
