;;; emacs_test.el --- Batch Emacs session driven by Tests/Editors/run.sh  -*- lexical-binding: t; -*-

;; Loads the SHIPPED EditorConfigs/emacs/codegen-lsp-eglot.el, opens a Python file, connects Eglot, edits the
;; buffer and checks completion-at-point, ghost text, generate-code (through workspace/applyEdit) and a clean
;; shutdown.  One line per check goes to $CODEGEN_EDITORS_RESULTS: `ok emacs: NAME' or `not ok emacs: NAME --
;; DETAIL'.

;;; Code:

(require 'cl-lib)
(require 'json)
(require 'subr-x)

(defvar codegen-test--results (getenv "CODEGEN_EDITORS_RESULTS"))
(defvar codegen-test--repo (getenv "CODEGEN_EDITORS_REPO"))
(defvar codegen-test--work (getenv "CODEGEN_EDITORS_WORK"))
(defvar codegen-test--timeout
  (/ (string-to-number (or (getenv "CODEGEN_EDITORS_REQUEST_TIMEOUT_MS") "120000")) 1000))

(defun codegen-test--report (ok name &optional detail)
  "Append a result line for check NAME (OK non-nil when it passed) with DETAIL on failure."
  (write-region (concat (if ok "ok" "not ok") " emacs: " name
                        (if (and (not ok) detail)
                            (concat " -- " (replace-regexp-in-string "\n" " " (format "%s" detail)))
                          "")
                        "\n")
                nil codegen-test--results t 'silent)
  ok)

(defun codegen-test--parses-p (file)
  "Non-nil when FILE parses as Python (python3's ast module); else the error output."
  (with-temp-buffer
    (let ((status (call-process "python3" nil t nil "-c"
                                "import ast, sys; ast.parse(open(sys.argv[1]).read())" file)))
      (if (eq status 0) t (cons nil (buffer-string))))))

(defun codegen-test--write-and-parse (name)
  "Save the buffer and check that it parses, reporting NAME."
  (let ((inhibit-message t))
    (save-buffer))
  (let ((parsed (codegen-test--parses-p buffer-file-name)))
    (codegen-test--report (eq parsed t) name
                          (format "%s -- buffer: %s" (cdr-safe parsed) (buffer-string)))))

(defun codegen-test--set-buffer (lines line column)
  "Replace the buffer with LINES and put point at 1-based LINE and 0-based COLUMN."
  (erase-buffer)
  (insert (string-join lines "\n"))
  (goto-char (point-min))
  (forward-line (1- line))
  (move-to-column column))

(defmacro codegen-test--section (name &rest body)
  "Run BODY; an error in it fails the section NAME and the session goes on (to the shutdown)."
  (declare (indent 1))
  `(condition-case err
       (progn ,@body)
     (error (codegen-test--report nil (concat ,name " raised no error") (error-message-string err)))))

(cl-defun codegen-test--run ()
  "The whole session."
  (unless (locate-library "eglot")
    (package-initialize))
  (load (expand-file-name "EditorConfigs/emacs/codegen-lsp-eglot.el" codegen-test--repo) nil t)
  (setq codegen-lsp-command (json-parse-string (getenv "CODEGEN_EDITORS_CMD") :array-type 'list)
        codegen-lsp-initialization-options
        (json-parse-string (or (getenv "CODEGEN_EDITORS_INIT_OPTIONS") "{}") :object-type 'plist)
        codegen-lsp-auto-ghost-text nil
        ;; Eglot's completion-at-point waits `jsonrpc-default-request-timeout' (10 s); a loaded machine may
        ;; need longer for a real model.
        jsonrpc-default-request-timeout codegen-test--timeout
        codegen-lsp-request-timeout codegen-test--timeout
        eglot-autoshutdown nil)
  (find-file (expand-file-name "emacs_sample.py" codegen-test--work))
  (codegen-test--report (derived-mode-p 'python-mode) "the sample opens in python-mode" major-mode)
  ;; What M-x eglot does: guess the contact from `eglot-server-programs' (the shipped entry) and connect.
  (call-interactively #'eglot)
  (with-timeout (60 nil)
    (while (not (and (bound-and-true-p eglot--managed-mode) (eglot-current-server)))
      (accept-process-output nil 0.1)))
  (let ((server (eglot-current-server)))
    (unless (codegen-test--report server "eglot connects through the shipped config")
      (cl-return-from codegen-test--run))
    (codegen-test--report (codegen-lsp--server-p server) "server advertises codegen-lsp.generateCode"
                          (eglot--capabilities server))
    ;; An empty JSON object ({}) reads as nil in a plist: check that the key is there and not false.
    (dolist (capability '(:completionProvider :inlineCompletionProvider))
      (let ((cell (plist-member (eglot--capabilities server) capability)))
        (codegen-test--report (and cell (not (eq (cadr cell) :json-false)))
                              (format "server advertises %s" (substring (symbol-name capability) 1))
                              (eglot--capabilities server))))
    (codegen-test--report codegen-lsp-mode "codegen-lsp-mode is on in the managed buffer")

    ;; completion-at-point: the capf Eglot installed answers with the model's candidates.
    (codegen-test--section "completion-at-point"
      (codegen-test--set-buffer '("def add(a, b):" "    \"\"\"Return the sum of a and b.\"\"\"" "    return a") 3 12)
      (let* ((capf-result nil)
             (capf (run-hook-wrapped 'completion-at-point-functions
                                     (lambda (fn)
                                       (when (functionp fn)
                                         (setq capf-result (funcall fn))
                                         (and capf-result fn))))))
        (codegen-test--report (eq capf 'eglot-completion-at-point) "completion-at-point goes to Eglot" capf)
        (when capf-result
          (pcase-let* ((`(,start ,end ,table . ,props) capf-result)
                       (prefix (buffer-substring-no-properties start end))
                       (candidates (all-completions prefix table)))
            (codegen-test--report (equal prefix "a") "completion region is the current word" prefix)
            (when (codegen-test--report candidates "completion-at-point offers candidates from the server")
              (let ((candidate (car candidates)))
                (codegen-test--report (get-text-property 0 'eglot--lsp-item candidate)
                                      "the candidate is an LSP completion item" candidate)
                (codegen-test--report (string-match-p "[^[:space:]]" candidate) "the candidate is not blank" candidate)
                ;; Choose it the way a completion UI does: insert it, then run the exit function (Eglot applies
                ;; the item's textEdit there).
                (delete-region start end)
                (goto-char start)
                (insert candidate)
                (when-let ((exit (plist-get props :exit-function)))
                  (funcall exit candidate 'finished))
                (let ((line (buffer-substring-no-properties (line-beginning-position) (line-end-position))))
                  (codegen-test--report (and (string-prefix-p "    return " line) (> (length line) 12))
                                        "the chosen candidate is inserted at point" line))
                (codegen-test--write-and-parse "buffer parses after completion-at-point")))))))

    ;; Ghost text: the shipped command requests textDocument/inlineCompletion and shows an overlay.
    (codegen-test--section "ghost text"
      (codegen-test--set-buffer '("def scale(values, factor):" "    \"\"\"Multiply every value by factor.\"\"\""
                                  "    return ") 3 11)
      (let* ((point-before (point))
             (cursor (eglot--pos-to-lsp-position))
             (item (condition-case err (codegen-lsp-inline-complete) (error (list :error err)))))
        (when (codegen-test--report (and item (not (plist-get item :error)))
                                    "inline completion returns an item from the model" item)
          (let ((range (plist-get item :range)))
            (codegen-test--report (or (null range)
                                    (let ((end (plist-get range :end)))
                                      (and (equal (plist-get end :line) (plist-get cursor :line))
                                           (equal (plist-get end :character) (plist-get cursor :character)))))
                                  "inline completion range ends at point" (list range cursor)))
          (codegen-test--report (string-match-p "[^[:space:]]" (codegen-lsp--item-text item))
                                "inline completion text is not blank" item)
          (codegen-test--report (and (codegen-lsp-ghost-text-visible-p)
                                     (cl-some (lambda (ov) (overlay-get ov 'codegen-lsp))
                                              (overlays-in (point-min) (point-max))))
                                "ghost text overlay is shown at point")
          (codegen-test--report (= (point) point-before) "showing ghost text does not move point")
          (when (codegen-test--report (codegen-lsp-inline-accept) "accepting the ghost text inserts it")
            (codegen-test--report (not (codegen-lsp-ghost-text-visible-p)) "the ghost text is gone after accepting")
            (codegen-test--write-and-parse "buffer parses after accepting the ghost text")))))

    ;; Generate code: the command's answer comes back and the edit arrives through workspace/applyEdit.
    (codegen-test--section "generate-code"
      (codegen-test--set-buffer '("def fibonacci(n):" "    \"\"\"Return the n-th Fibonacci number.\"\"\"" "    ") 3 4)
      (let* ((before (buffer-string))
             (result (condition-case err (codegen-lsp-generate-code) (error (list :error err)))))
        (when (codegen-test--report (and result (not (plist-get result :error))) "generate-code answers" result)
          (codegen-test--report (eq (plist-get result :applied) t) "generate-code reports the edit as applied" result)
          (let ((text (plist-get result :text)))
            (codegen-test--report (and (stringp text) (string-match-p "[^[:space:]]" text))
                                  "generate-code returns text" result)
            (when (codegen-test--report (not (equal (buffer-string) before))
                                        "generate-code changed the buffer through workspace/applyEdit" (buffer-string))
              (let ((first (if (stringp text) (string-trim (car (split-string (string-trim text) "\n"))) "")))
                (codegen-test--report (and (not (string-empty-p first)) (string-search first (buffer-string)))
                                      "the buffer holds the generated text" (list text (buffer-string))))
              (codegen-test--write-and-parse "buffer parses after generate-code"))))))

    ;; Clean shutdown: shutdown request, exit notification, the process exits with status 0.  These are the
    ;; steps of `eglot-shutdown', sent over Eglot's own connection; `eglot-shutdown' itself is not used because
    ;; Eglot 1.9 (Emacs 28) deletes the process right after sending exit, before the server can exit by itself.
    (let ((process (jsonrpc--process server)))
      (setf (eglot--shutdown-requested server) t)
      (let ((answer (condition-case err (progn (jsonrpc-request server :shutdown nil :timeout 30) t)
                      (error err))))
        (codegen-test--report (eq answer t) "shutdown request answered" answer))
      (jsonrpc-notify server :exit nil)
      (with-timeout (30 nil)
        (while (process-live-p process)
          (accept-process-output nil 0.1)))
      (codegen-test--report (and (eq (process-status process) 'exit) (eq (process-exit-status process) 0))
                            "server exits with status 0 after shutdown and exit"
                            (list (process-status process) (process-exit-status process))))))

(condition-case err
    (codegen-test--run)
  (error (codegen-test--report nil "test script error" (error-message-string err))))
(kill-emacs 0)

;;; emacs_test.el ends here
