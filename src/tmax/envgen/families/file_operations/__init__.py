"""file_operations: organise, find, rename and summarise files."""
