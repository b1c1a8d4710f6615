// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// @notice The shape of USDC's `transfer` for gas measurements, for tests only: the token lives
/// behind an ERC-1967 proxy ({UsdcLikeProxy}) and every transfer checks a pause flag and a
/// blacklist for the caller and the recipient before moving balances (FiatTokenV2 does the same).
/// Storage is laid out from slot 0 and written through the proxy; there is no initializer: the
/// tests mint what they need.
contract UsdcLikeToken {
    mapping(address account => uint256) public balanceOf;
    mapping(address owner => mapping(address spender => uint256)) public allowance;
    mapping(address account => bool) public isBlacklisted;
    uint256 public totalSupply;
    bool public paused;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    error UsdcLikeTokenPaused();
    error UsdcLikeTokenBlacklisted(address account);
    error UsdcLikeTokenInsufficient();

    function decimals() external pure returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function setBlacklisted(address account, bool blacklisted) external {
        isBlacklisted[account] = blacklisted;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        _notBlacklisted(msg.sender);
        _notBlacklisted(spender);
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _checks(msg.sender, to);
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _checks(from, to);
        _notBlacklisted(msg.sender);
        uint256 allowed = allowance[from][msg.sender];
        if (allowed < amount) revert UsdcLikeTokenInsufficient();
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - amount;
        _move(from, to, amount);
        return true;
    }

    function _checks(address from, address to) private view {
        if (paused) revert UsdcLikeTokenPaused();
        _notBlacklisted(from);
        _notBlacklisted(to);
    }

    function _notBlacklisted(address account) private view {
        if (isBlacklisted[account]) revert UsdcLikeTokenBlacklisted(account);
    }

    function _move(address from, address to, uint256 amount) private {
        uint256 balance = balanceOf[from];
        if (balance < amount) revert UsdcLikeTokenInsufficient();
        balanceOf[from] = balance - amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }
}

/// @notice The ERC-1967 proxy in front of a {UsdcLikeToken}; for tests only.
contract UsdcLikeProxy is ERC1967Proxy {
    constructor(address implementation) ERC1967Proxy(implementation, "") {}

    /// @dev The mock token has no initializer (see {UsdcLikeToken}).
    function _unsafeAllowUninitialized() internal pure override returns (bool) {
        return true;
    }
}
