"""local/iam/policy.py evaluates policy documents as IAM does: variables, conditions,
explicit deny, and failing closed on what it does not know."""
from __future__ import annotations

from local.iam.policy import ALLOW, DENY, NO_MATCH, decide

BUCKET = "arn:aws:s3:::b"
ALICE = {"aws:PrincipalTag/sub": "alice"}


def allow(action: str, resource: str, condition: dict | None = None) -> dict:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def test_a_principal_tag_variable_is_replaced_by_the_sessions_tag():
    policy = allow("s3:GetObject", BUCKET + "/users/${aws:PrincipalTag/sub}/*")
    assert decide([policy], "s3:GetObject", BUCKET + "/users/alice/x", ALICE) == ALLOW
    assert decide([policy], "s3:GetObject", BUCKET + "/users/bob/x", ALICE) == NO_MATCH


def test_a_variable_without_a_value_matches_nothing():
    policy = allow("s3:GetObject", BUCKET + "/users/${aws:PrincipalTag/sub}/*")
    assert decide([policy], "s3:GetObject", BUCKET + "/users//x", {}) == NO_MATCH
    assert decide([policy], "s3:GetObject", BUCKET + "/users/${aws:PrincipalTag/sub}/x",
                  {}) == NO_MATCH


def test_a_wildcard_in_a_tag_value_is_literal():
    policy = allow("s3:GetObject", BUCKET + "/users/${aws:PrincipalTag/sub}/*")
    sneaky = {"aws:PrincipalTag/sub": "*"}
    assert decide([policy], "s3:GetObject", BUCKET + "/users/bob/x", sneaky) == NO_MATCH


def test_question_mark_matches_one_character_and_special_variables_are_literal():
    policy = allow("s3:GetObject", BUCKET + "/a?c/${*}${?}${$}")
    assert decide([policy], "s3:GetObject", BUCKET + "/abc/*?$", {}) == ALLOW
    assert decide([policy], "s3:GetObject", BUCKET + "/abbc/*?$", {}) == NO_MATCH


def test_actions_ignore_case_and_resources_do_not():
    policy = allow("s3:getobject", BUCKET + "/Users/*")
    assert decide([policy], "s3:GetObject", BUCKET + "/Users/x", {}) == ALLOW
    assert decide([policy], "s3:GetObject", BUCKET + "/users/x", {}) == NO_MATCH


def test_string_like_on_the_list_prefix_with_a_variable():
    policy = allow("s3:ListBucket", BUCKET, {"StringLike": {"s3:prefix": [
        "users/${aws:PrincipalTag/sub}/files/", "users/${aws:PrincipalTag/sub}/files/*"]}})
    assert decide([policy], "s3:ListBucket", BUCKET,
                  {**ALICE, "s3:prefix": "users/alice/files/"}) == ALLOW
    assert decide([policy], "s3:ListBucket", BUCKET,
                  {**ALICE, "s3:prefix": "users/alice/files/a"}) == ALLOW
    assert decide([policy], "s3:ListBucket", BUCKET,
                  {**ALICE, "s3:prefix": "users/alice/"}) == NO_MATCH
    assert decide([policy], "s3:ListBucket", BUCKET, ALICE) == NO_MATCH  # no prefix at all


def test_an_explicit_deny_wins_over_an_allow():
    deny = {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    everything = allow("s3:*", "*")
    assert decide([everything, deny], "s3:GetObject", BUCKET + "/x",
                  {"aws:SecureTransport": "false"}) == DENY
    assert decide([everything, deny], "s3:GetObject", BUCKET + "/x",
                  {"aws:SecureTransport": "true"}) == ALLOW


def test_negated_operators_hold_when_the_key_is_missing_and_if_exists_skips_it():
    not_equals = allow("s3:GetObject", "*", {"StringNotEquals": {"s3:prefix": "x"}})
    assert decide([not_equals], "s3:GetObject", "arn", {}) == ALLOW
    if_exists = allow("s3:GetObject", "*", {"StringEqualsIfExists": {"s3:prefix": "x"}})
    assert decide([if_exists], "s3:GetObject", "arn", {}) == ALLOW
    assert decide([if_exists], "s3:GetObject", "arn", {"s3:prefix": "y"}) == NO_MATCH


def test_an_unknown_condition_operator_never_grants_and_never_lifts_a_deny():
    odd = {"NumericLessThan": {"s3:max-keys": "10"}}
    assert decide([allow("s3:*", "*", odd)], "s3:ListBucket", BUCKET,
                  {"s3:max-keys": "5"}) == NO_MATCH
    deny = {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                           "Condition": odd}]}
    assert decide([allow("s3:*", "*"), deny], "s3:ListBucket", BUCKET, {}) == DENY


def test_the_trust_policy_admits_only_this_pools_authenticated_identities():
    trust = {"Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "pool-1"},
                      "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr":
                                                 "authenticated"}}}]}
    cognito = {"Federated": "cognito-identity.amazonaws.com"}
    signed_in = {"cognito-identity.amazonaws.com:aud": "pool-1",
                 "cognito-identity.amazonaws.com:amr": ["authenticated", "provider"]}
    assert decide([trust], "sts:TagSession", "role", signed_in, cognito) == ALLOW
    assert decide([trust], "sts:AssumeRoleWithWebIdentity", "role",
                  {**signed_in, "cognito-identity.amazonaws.com:aud": "pool-2"},
                  cognito) == NO_MATCH
    assert decide([trust], "sts:AssumeRoleWithWebIdentity", "role",
                  {**signed_in, "cognito-identity.amazonaws.com:amr": ["unauthenticated"]},
                  cognito) == NO_MATCH
    assert decide([trust], "sts:AssumeRoleWithWebIdentity", "role", signed_in,
                  {"Federated": "accounts.google.com"}) == NO_MATCH


def test_for_all_values_needs_every_value_to_match_and_for_any_value_needs_one():
    own_keys = ["${aws:PrincipalTag/sub}"]
    every = allow("dynamodb:GetItem", "*",
                  {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": own_keys}})
    some = allow("dynamodb:GetItem", "*",
                 {"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": own_keys}})
    own = {**ALICE, "dynamodb:LeadingKeys": ["alice"]}
    mixed = {**ALICE, "dynamodb:LeadingKeys": ["alice", "bob"]}
    assert decide([every], "dynamodb:GetItem", "arn", own) == ALLOW
    assert decide([every], "dynamodb:GetItem", "arn", mixed) == NO_MATCH
    assert decide([some], "dynamodb:GetItem", "arn", mixed) == ALLOW
    assert decide([some], "dynamodb:GetItem", "arn",
                  {**ALICE, "dynamodb:LeadingKeys": ["bob"]}) == NO_MATCH
    # Over no values at all (a Scan names no key), ForAllValues holds, as IAM documents.
    assert decide([every], "dynamodb:GetItem", "arn", ALICE) == ALLOW
    assert decide([some], "dynamodb:GetItem", "arn", ALICE) == NO_MATCH
