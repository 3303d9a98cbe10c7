#!/bin/sh
echo pigeon-post-2026
