{{ write_files }}cd /app && make
