// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {GovernorRulesModule} from "./GovernorRulesModule.sol";

/// @title GovernorRulesHost
/// @notice The governor's side of {GovernorRulesModule}: deploys the governor's own module at construction
/// and forwards calls to it by delegatecall. Shared by {GovernorTracks} and {GovernorQuadratic}.
abstract contract GovernorRulesHost {
    // The module's creation code is part of the governor's init code only, never of its runtime code.
    address private immutable _rulesModule = address(new GovernorRulesModule());

    /// @notice The {GovernorRulesModule} this governor delegatecalls for its rule setters and views (deployed
    /// by this governor's constructor; fixed).
    function rulesModule() public view virtual returns (address) {
        return _rulesModule;
    }

    /// @dev Delegatecalls the module with `data`; returns its return data, bubbles its revert.
    function _delegateToRulesModule(bytes memory data) internal returns (bytes memory) {
        return Address.functionDelegateCall(_rulesModule, data);
    }

    /// @dev Runs the current call's own calldata in the module and returns or reverts with its result, ending
    /// the call: for external entry points whose module function has the same signature. Never call it from
    /// a function that other code calls internally.
    function _forwardToRulesModule() internal {
        address module = _rulesModule;
        // Not memory-safe: it overwrites memory from 0, and ends the call before Solidity reads it again.
        assembly {
            calldatacopy(0, 0, calldatasize())
            let success := delegatecall(gas(), module, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(success) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// @dev {_forwardToRulesModule} for view entry points: the module's views write nothing, and under a
    /// STATICCALL any write would revert anyway.
    function _forwardToRulesModuleView() internal view {
        function() internal forward = _forwardToRulesModule;
        function() internal view forwardView;
        assembly ("memory-safe") {
            forwardView := forward
        }
        forwardView();
    }
}
