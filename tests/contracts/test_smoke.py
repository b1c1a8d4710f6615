def test_mint(accounts, project):
    owner = accounts[0]
    t = owner.deploy(project.MockStablecoin)
    t.mint(owner, 10**6, sender=owner)
    assert t.balanceOf(owner) == 10**6
