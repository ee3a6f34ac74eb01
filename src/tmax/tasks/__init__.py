"""Terminal tasks in Harbor and Terminal-Bench 1 layouts."""

from tmax.tasks.config import TaskConfig
from tmax.tasks.resolve import resolve_task_dirs
from tmax.tasks.task import Problem, Task, check_task, is_task_dir, load_task

__all__ = ["Problem", "Task", "TaskConfig", "check_task", "is_task_dir", "load_task", "resolve_task_dirs"]
