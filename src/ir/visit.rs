//! Every expression of a rule, wherever it is written: the trigger's filter, the
//! condition, each step's arguments, keys, guards and templates, nested steps too.
//! What a question about "where is this read?" walks (references, hydration).

use super::{Action, Expr, ExprKind, Rule, Step, TemplatePart, Trigger};

/// Every step of a block, depth first, nested blocks included (`if`, `route` and
/// `for each` steps come before the steps inside them).
pub fn all_steps(steps: &[Step]) -> Vec<&Step> {
    let mut out = Vec::new();
    let mut stack: Vec<&Step> = steps.iter().rev().collect();
    while let Some(step) = stack.pop() {
        out.push(step);
        for block in step.action.blocks().into_iter().rev() {
            stack.extend(block.iter().rev());
        }
    }
    out
}

/// Calls `f` on every expression of `rule`, outermost first.
pub fn exprs<'a>(rule: &'a Rule, f: &mut impl FnMut(&'a Expr)) {
    if let Trigger::Matches { filter } = &rule.trigger {
        expr(filter, f);
    }
    if let Some(condition) = &rule.condition {
        expr(condition, f);
    }
    steps(&rule.steps, f);
}

fn steps<'a>(list: &'a [Step], f: &mut impl FnMut(&'a Expr)) {
    for step in list {
        action(&step.action, f);
    }
}

/// Calls `f` on every expression a step writes itself — its arguments, key, the
/// record it names, an `if`/`route` step's conditions, a `for each`'s list — but not
/// on those of the steps nested in it.
pub fn step_exprs<'a>(action: &'a Action, f: &mut impl FnMut(&'a Expr)) {
    own(action, f, false);
}

fn action<'a>(action: &'a Action, f: &mut impl FnMut(&'a Expr)) {
    own(action, f, true);
}

fn own<'a>(action: &'a Action, f: &mut impl FnMut(&'a Expr), nested: bool) {
    // The record a step names is read like any argument (`company` in
    // `set company.owner = …`).
    if let Some(target) = action.target() {
        expr(&target.record, f);
    }
    let mut one = |e: &'a Expr| expr(e, f);
    match action {
        Action::Set { value, .. } => one(value),
        Action::SlackChannel { text, key, .. } => text.iter().chain(key).for_each(one),
        Action::SlackDm {
            member, text, key, ..
        } => {
            one(member);
            text.iter().chain(key).for_each(one);
        }
        Action::Email {
            to,
            subject,
            body,
            key,
            ..
        } => {
            one(to);
            subject.iter().chain(body).chain(key).for_each(one);
        }
        Action::CreateTask {
            title,
            assignee,
            due,
            body,
            key,
            ..
        } => {
            one(title);
            assignee
                .iter()
                .chain(due)
                .chain(body)
                .chain(key)
                .for_each(one);
        }
        Action::Create { fields, key, .. } => {
            fields.iter().map(|(_, e)| e).chain(key).for_each(one);
        }
        Action::Find { filter, .. } => one(filter),
        Action::Upsert { fields, .. } => fields.iter().map(|(_, e)| e).for_each(one),
        Action::Note { title, body, .. } => {
            one(title);
            body.iter().for_each(one);
        }
        Action::Http {
            url,
            headers,
            body,
            key,
            ..
        } => {
            one(url);
            headers
                .iter()
                .map(|(_, e)| e)
                .chain(body)
                .chain(key)
                .for_each(one);
        }
        Action::WaitFor { duration } => one(duration),
        Action::WaitUntil { time } => one(time),
        Action::Ask {
            member,
            question,
            timeout,
            ..
        } => {
            one(member);
            one(question);
            timeout.iter().for_each(one);
        }
        Action::If {
            branches,
            otherwise,
        }
        | Action::Route {
            arms: branches,
            otherwise,
        } => {
            for branch in branches {
                expr(&branch.condition, f);
                if nested {
                    steps(&branch.steps, f);
                }
            }
            if nested {
                steps(otherwise, f);
            }
        }
        Action::ForEach {
            list, steps: body, ..
        } => {
            expr(list, f);
            if nested {
                steps(body, f);
            }
        }
        Action::Custom { args, key, .. } => {
            args.iter().map(|(_, e)| e).chain(key).for_each(one);
        }
        Action::Clear { .. }
        | Action::AddToList { .. }
        | Action::RemoveFromList { .. }
        | Action::Stop
        | Action::Skip { .. } => {}
    }
}

/// Calls `f` on `e` and every expression inside it, outermost first.
pub fn expr<'a>(e: &'a Expr, f: &mut impl FnMut(&'a Expr)) {
    f(e);
    match &e.kind {
        ExprKind::List { items } | ExprKind::Call { args: items, .. } => {
            items.iter().for_each(|i| expr(i, f))
        }
        ExprKind::Map { entries } => entries.iter().for_each(|(_, v)| expr(v, f)),
        ExprKind::Template { parts } => {
            for part in parts {
                if let TemplatePart::Hole(hole) = part {
                    expr(hole, f);
                }
            }
        }
        ExprKind::Not { operand }
        | ExprKind::Neg { operand }
        | ExprKind::Test { operand, .. }
        | ExprKind::InList { operand, .. } => expr(operand, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            expr(lhs, f);
            expr(rhs, f);
        }
        ExprKind::Const { .. }
        | ExprKind::Read { .. }
        | ExprKind::Now
        | ExprKind::Today
        | ExprKind::Relative { .. } => {}
    }
}
