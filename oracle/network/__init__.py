"""An oracle network of k-of-n nodes (issue 17): each node is its own `verdict run` process that
scores a deterministic batch, signs its scores (EIP-712, `report`), exchanges signatures with its
peers over HTTP (`transport`) and, when its turn comes, transmits one report for all (`node`)."""
