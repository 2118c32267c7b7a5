"""Schemas of the identity endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from userfacing_api.domain.identity import USERS_GROUP


class CognitoInfoSchema(Schema):
    user_pool_id = fields.String(required=True, allow_none=True)
    client_id = fields.String(required=True, allow_none=True)
    region = fields.String(required=True, allow_none=True)


class AccessInfoSchema(Schema):
    cognito = fields.Nested(CognitoInfoSchema, required=True)


class UserSchema(Schema):
    email = fields.String(required=True, allow_none=True)
    groups = fields.List(fields.String(), required=True, allow_none=True)


class CredentialsFormSchema(Schema):
    """The OAuth2 password form; its other fields (`grant_type`, `scope`, ...) are ignored."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=128))
    password = fields.String(required=True)


class RegistrationFormSchema(CredentialsFormSchema):
    groups = fields.List(
        fields.String(validate=validate.Length(min=1, max=128)),
        load_default=lambda: [USERS_GROUP],
        validate=validate.Length(max=32),
        metadata={"description": "Repeat the field for several groups; default `users`"},
    )


class TokenSchema(Schema):
    id_token = fields.String(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds"})


class MessageSchema(Schema):
    message = fields.String(required=True)
