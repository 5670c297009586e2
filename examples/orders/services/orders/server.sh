#!/bin/sh
echo "orders api"
