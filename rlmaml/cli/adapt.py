"""`rlmaml adapt` and `rlmaml export`: adapt a meta-trained policy to new tasks or to one
given task; report the returns, draw the paths, record videos, or write an SB3 PPO file."""

from __future__ import annotations

import argparse
from pathlib import Path

from rlmaml.cli.options import add_checkpoint, add_episodes, add_schedule, add_seed, count, image_path
from rlmaml.cli.output import print_returns, returns_json, write_json
from rlmaml.errors import UserError


def add_adapt(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run directory written by `rlmaml train`")
    add_checkpoint(parser)
    parser.add_argument(
        "--num-tasks", type=count(1), help="new tasks to sample (default 40; with --split, every goal of the split)"
    )
    parser.add_argument("--steps", type=count(0), default=3, help="policy-gradient steps (default 3)")
    parser.add_argument("--task", nargs="+", metavar="KEY=VALUE", help="one task instead, e.g. goal=0.3,-0.2")
    add_seed(parser, "the evaluation tasks and episodes")
    parser.add_argument("--json", help="write the returns per step to this JSON file")
    parser.add_argument("--plot", type=image_path, help="draw 2D-navigation trajectories to this image file")
    add_schedule(parser)
    add_episodes(parser)
    parser.add_argument("--video", metavar="DIR", help="MuJoCo envs: write before.gif and after.gif of the first task")
    add_split(parser)
    parser.set_defaults(run=cmd_adapt)


def add_split(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--split",
        choices=("train", "test"),
        help="Meta-World envs: adapt to each of the benchmark's train or test goals once (Meta-World's protocol; "
        "--num-tasks N takes the first N, in Meta-World's order)",
    )


def add_export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run directory written by `rlmaml train`")
    add_checkpoint(parser)
    parser.add_argument("--task", nargs="+", required=True, metavar="KEY=VALUE", help="the task, e.g. direction=-1")
    parser.add_argument("--steps", type=count(0), default=1, help="policy-gradient steps (default 1)")
    parser.add_argument("--out", required=True, help="the .zip file to write")
    add_seed(parser, "the adaptation episodes")
    add_schedule(parser)
    add_episodes(parser)
    parser.set_defaults(run=cmd_export)


def cmd_adapt(args: argparse.Namespace) -> None:
    if args.video:
        from rlmaml.rl.video import choose_headless_backend

        choose_headless_backend()  # before MuJoCo is imported
    from rlmaml.envs.protocol import Task
    from rlmaml.rl.evaluation import adapt_and_measure, success_by_family, with_episodes
    from rlmaml.rl.policy_io import load_trained_policy, read_rl_run_config
    from rlmaml.rl.tasks import check_task, evaluation_tasks, moves_in_plane, on_split, parse_task, task_parameters
    from rlmaml.runs.memory import check_adaptation

    run_config = on_split(with_episodes(read_rl_run_config(Path(args.run_dir)), args.episodes), args.split)
    tasks: list[Task] | int = (
        [check_task(run_config, parse_task(args.task))]
        if args.task
        else evaluation_tasks(run_config, args.num_tasks, args.split)
    )
    check_adaptation(run_config, tasks if isinstance(tasks, int) else len(tasks), args.steps)
    config, policy, metadata = load_trained_policy(Path(args.run_dir), args.checkpoint)
    config = on_split(with_episodes(config, args.episodes), args.split)
    if args.plot and not moves_in_plane(config):
        raise UserError(f"--plot draws 2D-navigation trajectories; this run's env is {config.env}")
    if args.video:
        if moves_in_plane(config):
            raise UserError("--video renders MuJoCo envs; for 2D navigation draw the trajectories with --plot")
        from rlmaml.rl.video import check_rendering

        check_rendering(config)
    result = adapt_and_measure(config, policy, tasks, args.steps, args.seed, args.lr_schedule)
    print(
        f"{config.env}: {len(result.tasks)} task(s), {config.fast_batch_size} episodes per step, "
        f"{args.lr_schedule} step sizes, policy after {metadata.get('iterations_done', '?')} meta-iterations"
    )
    print_returns(result.returns, result.successes)
    by_family = success_by_family(result.tasks, result.episodes)
    for family, rates in by_family.items():
        print(f"  {family}: success {' / '.join(format(rate, '.1%') for rate in rates)} after 0..{args.steps} steps")
    if args.json:
        report = {
            "env": config.env,
            "num_tasks": len(result.tasks),
            "episodes_per_step": config.fast_batch_size,
            "lr_schedule": args.lr_schedule,
            "returns": returns_json(result.returns),
        }
        if result.successes is not None:
            report |= {"split": config.env_kwargs.get("split", "train"), "successes": returns_json(result.successes)}
        if by_family:
            report["successes_by_family"] = by_family
        write_json(args.json, report)
    if args.plot:
        from rlmaml.rl.plots import plot_navigation

        plot_navigation(result, Path(args.plot))
    if args.video:
        from rlmaml.rl.video import write_adaptation_videos

        before, after = (task_parameters(result.parameters[k], 0) for k in (0, -1))  # task 0
        paths = write_adaptation_videos(
            config, policy, before, after, result.tasks[0], args.steps, Path(args.video), args.seed
        )
        print(f"videos of task {result.tasks[0]}: {', '.join(map(str, paths))}")


def cmd_export(args: argparse.Namespace) -> None:
    from rlmaml.rl.evaluation import adapt_and_measure, with_episodes
    from rlmaml.rl.export import check_exportable, save_atomically, to_ppo
    from rlmaml.rl.policy_io import load_trained_policy, read_rl_run_config
    from rlmaml.rl.tasks import check_task, parse_task, task_parameters
    from rlmaml.runs.memory import check_adaptation

    out = Path(args.out)
    if out.suffix != ".zip":
        raise UserError(f"--out {out}: Stable-Baselines3 files end in .zip; give a path like policy.zip")
    run_config = read_rl_run_config(Path(args.run_dir))
    check_exportable(run_config)
    check_adaptation(with_episodes(run_config, args.episodes), 1, args.steps)
    config, policy, _ = load_trained_policy(Path(args.run_dir), args.checkpoint)
    task = check_task(config, parse_task(args.task))
    result = adapt_and_measure(config, policy, [task], args.steps, args.seed, args.lr_schedule, args.episodes)
    print_returns(result.returns)
    adapted = task_parameters(result.parameters[-1], 0)
    save_atomically(to_ppo(config, policy, adapted), out)
    print(
        f"wrote {out}: PPO.load('{out}') acts in {config.env} (horizon {config.horizon}) "
        f"after env.unwrapped.set_task({task})"
    )
