"""The strings of the log-in and password pages, Chinese first (merged into `ui`)."""

from __future__ import annotations

AUTH_UI: dict[str, tuple[str, str]] = {
    "logout": ("退出登录", "Log out"),
    "nav.password": ("修改密码", "Change password"),
    "error.csrf": ("页面已过期", "This page is out of date"),
    "error.csrf_text": ("表单的安全校验码缺失或已过期（可能已重新登录，或表单来自其他网站）。"
                        "请刷新页面后重新提交。",
                        "The form's security token is missing or out of date (you may have "
                        "logged in again, or the form came from another site). Reload the page "
                        "and send the form again."),
    "auth.login_title": ("登录", "Log in"),
    "auth.login_intro": ("请使用您的用户名和密码登录 BankVOC。",
                         "Log in to BankVOC with your user name and password."),
    "auth.username": ("用户名", "User name"),
    "auth.password": ("密码", "Password"),
    "auth.submit": ("登录", "Log in"),
    "auth.error_title": ("无法登录", "Could not log in"),
    "auth.failed": ("用户名或密码不正确，请检查后重试（注意大小写）。",
                    "The user name or password is not right: check them and try again "
                    "(letters are case-sensitive)."),
    "auth.locked": ("该账户因多次登录失败已被暂时锁定，请 {minutes} 分钟后再试，"
                    "或联系系统管理员解锁。",
                    "This account is locked for a while after too many failed log-ins: try "
                    "again in {minutes} minutes, or ask an administrator to unlock it."),
    "auth.throttled": ("来自此地址的登录失败次数过多，请稍后再试。",
                       "Too many failed log-ins from this address: try again later."),
    "auth.missing": ("请填写{field}。", "Enter your {field}."),
    "auth.demo_hint": ("演示模式：各演示用户的密码均为 {password}。",
                       "Demo mode: every demo user's password is {password}."),
    "auth.password_title": ("修改密码", "Change password"),
    "auth.password_forced": ("这是管理员设置的初始密码，请先设置您自己的新密码再继续使用。",
                             "This is an initial password set by an administrator: choose "
                             "your own new password before you go on."),
    "auth.password_rules": ("新密码至少 {min} 个字符，需包含至少两类字符"
                            "（小写字母、大写字母、数字、其他符号），且不能与用户名相同。",
                            "A new password has at least {min} characters, mixes at least "
                            "two kinds (lower-case, upper-case, digits, others) and is not "
                            "your user name."),
    "auth.current_password": ("当前密码", "Current password"),
    "auth.new_password": ("新密码", "New password"),
    "auth.new_password_again": ("再次输入新密码", "New password again"),
    "auth.password_submit": ("修改密码", "Change password"),
    "auth.password_error_title": ("密码未修改", "The password was not changed"),
    "auth.password_changed": ("密码已修改。您在其他设备或浏览器上的登录已全部退出。",
                              "Your password is changed. Your sessions on other devices and "
                              "browsers have been logged out."),
    "auth.continue": ("继续", "Continue"),
    "auth.policy.too_short": ("至少需要 {min} 个字符", "needs at least {min} characters"),
    "auth.policy.too_long": ("不能超过 {max} 个字符", "may have at most {max} characters"),
    "auth.policy.one_class": ("需包含至少两类字符（小写字母、大写字母、数字、其他符号）",
                              "must mix at least two kinds of characters (lower-case, "
                              "upper-case, digits, others)"),
    "auth.policy.is_username": ("不能与用户名相同", "may not be your user name"),
    "auth.policy.unchanged": ("不能与当前密码相同", "must differ from the current password"),
    "auth.policy.current_wrong": ("当前密码不正确", "is not right"),
    "auth.policy.mismatch": ("两次输入的新密码不一致", "does not match the new password"),
    "auth.policy.empty": ("请填写此项", "is required"),
    # The second factor (TOTP)
    "nav.totp": ("两步验证", "Two-step verification"),
    "auth.code_title": ("输入验证码", "Enter your code"),
    "auth.code_intro": ("请打开手机上的身份验证器应用，输入 BankVOC 当前显示的 6 位验证码。",
                        "Open the authenticator app on your phone and enter the 6-digit code "
                        "it shows for BankVOC now."),
    "auth.code": ("验证码", "Code"),
    "auth.code_submit": ("验证并登录", "Verify and log in"),
    "auth.code_restart": ("重新输入用户名和密码", "Start again with your user name and password"),
    "auth.totp_rejected": ("验证码不正确或已使用过，请输入应用当前显示的验证码"
                           "（并确认手机时间准确）。",
                           "The code is not right or was used already: enter the code the app "
                           "shows now (and check your phone's clock)."),
    "auth.totp_malformed": ("请输入 6 位数字验证码。", "Enter the 6-digit code."),
    "auth.totp_restart": ("登录步骤已超时或被中断，请重新输入用户名和密码。",
                          "The log-in took too long or was interrupted: enter your user name "
                          "and password again."),
    "auth.totp_enrol_title": ("设置两步验证", "Set up two-step verification"),
    "auth.totp_required": ("您的角色必须使用两步验证：请先完成设置，然后才能登录。",
                           "Your role must use two-step verification: set it up now to log "
                           "in."),
    "auth.totp_title": ("两步验证", "Two-step verification"),
    "auth.totp_intro": ("登录时除密码外，还需输入手机身份验证器应用生成的验证码"
                        "（适用于系统管理员和消保人员）。",
                        "Logging in asks, after the password, for a code from an authenticator "
                        "app on your phone (for administrators and consumer protection)."),
    "auth.totp_step_app": ("在手机上安装身份验证器应用（任何支持 TOTP 的应用均可）。",
                           "Install an authenticator app on your phone (any app that supports "
                           "TOTP)."),
    "auth.totp_step_scan": ("用应用扫描下面的二维码，或手动输入密钥。",
                            "Scan the QR code below with the app, or type in the key."),
    "auth.totp_step_code": ("输入应用显示的 6 位验证码，完成设置。",
                            "Enter the 6-digit code the app shows to finish."),
    "auth.totp_qr_alt": ("用于身份验证器应用的二维码", "QR code for the authenticator app"),
    "auth.totp_secret": ("密钥", "Key"),
    "auth.totp_uri": ("设置链接（otpauth）", "Set-up link (otpauth)"),
    "auth.totp_submit": ("完成设置", "Finish the set-up"),
    "auth.totp_error_title": ("两步验证未设置", "Two-step verification is not set up"),
    "auth.totp_unavailable": ("两步验证仅适用于系统管理员和消保人员，您的角色无需设置。",
                              "Two-step verification is for administrators and consumer "
                              "protection: your role does not use it."),
    "auth.totp_token": ("请使用用户名和密码登录页面后再设置两步验证（API 令牌不能设置）。",
                        "Log in to the pages with your user name and password to set it up "
                        "(an API token cannot)."),
    "auth.totp_enrolled": ("两步验证已于 {at} 启用。如手机丢失，请联系系统管理员重置。",
                           "Two-step verification is on since {at}. If you lose your phone, "
                           "ask an administrator to reset it."),
    "auth.totp_done": ("两步验证已启用，下次登录时将要求输入验证码。",
                       "Two-step verification is on: the next log-in asks for a code."),
}
