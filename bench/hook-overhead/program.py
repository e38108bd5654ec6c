"""The benchmark's program: imports a web/data stack (well over 300 modules) and exits."""
import sys

import boto3
import django
import django.db.models
import fastapi
import flask
import httpx
import jinja2
import sqlalchemy
import sqlalchemy.orm
import celery
import yaml

print(len(sys.modules))
