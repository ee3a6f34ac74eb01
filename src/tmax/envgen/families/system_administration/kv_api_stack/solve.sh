{{ merge }}cat > /app/stack.ini <<'EOF'
{{ config }}EOF
cat > /app/start-stack.sh <<'STACK'
setsid nohup python3 /app/kvd.py > /var/log/kvd.log 2>&1 < /dev/null &
{{ kvd_pidfile }}for i in $(seq 100); do nc -z 127.0.0.1 {{ kv_port }} && break; sleep 0.1; done
setsid nohup python3 /app/api.py > /var/log/api.log 2>&1 < /dev/null &
{{ api_pidfile }}for i in $(seq 100); do nc -z 127.0.0.1 {{ api_port }} && break; sleep 0.1; done
STACK
bash /app/start-stack.sh
