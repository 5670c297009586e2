#!/bin/sh
# Placeholder for the service behind the ${entity} output port; replace it with your own.
echo "${entity} api"
