#!/bin/sh
echo "{{ name }} ran at $(date)"
