#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nginx_conf.sh DIR PORT ROOT: write DIR/nginx-PORT/nginx.conf, an nginx
# configuration serving ROOT on 127.0.0.1:PORT in the foreground (one
# worker, sendfile on, no access log), everything nginx writes under
# DIR/nginx-PORT (the VM guest's root is read-only), and print its path.
# Used by selftests/xtcp_run.sh and scripts/bench-matrix.
set -e
dir=$1/nginx-$2
mkdir -p "$dir"
cat >"$dir/nginx.conf" <<EOC
user root;
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
	access_log off;
	sendfile on;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	server {
		listen 127.0.0.1:$2;
		root $3;
	}
}
EOC
echo "$dir/nginx.conf"
